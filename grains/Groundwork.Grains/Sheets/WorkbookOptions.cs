using System.ComponentModel.DataAnnotations;
using Groundwork.Grains.Resources;

namespace Groundwork.Grains.Sheets;

/// <summary>
/// Limits of the Sheets building block (configuration section <c>Groundwork:Sheets</c>), beside the kit's
/// (<see cref="ResourceOptions"/>; Sheets keeps 1,000 changes and holds at most 10,000 workbooks per tenant). Going
/// past one raises <see cref="LimitExceededException"/> naming it, e.g. <c>Sheets:MaxCells</c>; nothing is changed.
/// </summary>
[BlockOptions("sheets")]
public sealed class WorkbookOptions : ResourceOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Sheets";

    /// <summary>Sheets' defaults for the kit's limits.</summary>
    public WorkbookOptions()
    {
        MaxPerTenant = 10_000;
        // The workbook keeps its cells itself: tiles are dropped from the chunk set once committed.
        MaxLoadedChunks = 0;
    }

    /// <summary>Filled cells in one workbook. Default 1,000,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxCells { get; set; } = 1_000_000;

    /// <summary>Characters in a formula, its <c>=</c> included. Default 8,192 (Excel's).</summary>
    [Range(2, 1_000_000)]
    public int MaxFormulaLength { get; set; } = 8_192;

    /// <summary>Levels of parentheses and function calls inside one another in a formula. Default 64 (Excel's).</summary>
    [Range(1, 1_000)]
    public int MaxNesting { get; set; } = 64;

    /// <summary>Arguments of one function call. Default 255 (Excel's).</summary>
    [Range(1, 10_000)]
    public int MaxArguments { get; set; } = 255;

    /// <summary>Characters of text in one cell. Default 32,767 (Excel's).</summary>
    [Range(1, 1_000_000)]
    public int MaxTextLength { get; set; } = 32_767;

    /// <summary>Cells one edit or clear sets. Default 100,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxBatchCells { get; set; } = 100_000;

    /// <summary>Cells one CSV import or export covers. Default 1,000,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxCsvCells { get; set; } = 1_000_000;

    /// <summary>Characters of CSV one import takes. Default 64 Mi.</summary>
    [Range(1, int.MaxValue)]
    public int MaxCsvLength { get; set; } = 64 * 1024 * 1024;

    /// <summary>Formulas one batch may recalculate; a batch that would need more is refused. Default 1,000,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxRecalculatedCells { get; set; } = 1_000_000;

    /// <summary>Filled cells one read returns. Default 100,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxReadCells { get; set; } = 100_000;

    /// <summary>Cells one change lists; past it, the change names the ranges to read again instead. Default 20,000.</summary>
    [Range(0, int.MaxValue)]
    public int MaxChangeCells { get; set; } = 20_000;

    /// <summary>Sheets in one workbook. Default 64.</summary>
    [Range(1, 1_000)]
    public int MaxSheets { get; set; } = 64;

    /// <summary>Characters in a workbook's title. Default 200.</summary>
    [Range(1, int.MaxValue)]
    public int MaxTitleLength { get; set; } = 200;

    /// <summary>The time zone NOW and TODAY read the silo's clock in (an IANA or Windows id). Default UTC.</summary>
    [Required, KnownTimeZone]
    public string TimeZone { get; set; } = "UTC";
}

/// <summary>Refuses, at start, a time zone id this machine does not know (rather than at a workbook's first activation).</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class KnownTimeZoneAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is not string id || TimeZoneInfo.TryFindSystemTimeZoneById(id, out _)
            ? ValidationResult.Success
            : new ValidationResult($"{WorkbookOptions.SectionName}:{validationContext.MemberName} '{id}' is not a time zone this machine knows: use an IANA id such as Europe/Paris, or UTC", [validationContext.MemberName!]);
}
