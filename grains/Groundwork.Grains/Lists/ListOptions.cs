using System.ComponentModel.DataAnnotations;
using Groundwork.Grains.Resources;

namespace Groundwork.Grains.Lists;

/// <summary>
/// Limits of the Lists building block (configuration section <c>Groundwork:Lists</c>), beside the kit's
/// (<see cref="ResourceOptions"/>). Going past one raises <see cref="LimitExceededException"/> naming it, e.g.
/// <c>Lists:MaxItems</c>.
/// </summary>
[BlockOptions("lists")]
public sealed class ListOptions : ResourceOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Lists";

    /// <summary>Items per list. Default 10,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxItems { get; set; } = 10_000;

    /// <summary>Characters in a list's title. Default 200.</summary>
    [Range(1, int.MaxValue)]
    public int MaxTitleLength { get; set; } = 200;

    /// <summary>Characters in an item's title. Default 500.</summary>
    [Range(1, int.MaxValue)]
    public int MaxItemTitleLength { get; set; } = 500;

    /// <summary>Characters in an item's notes. Default 10,000.</summary>
    [Range(0, int.MaxValue)]
    public int MaxNotesLength { get; set; } = 10_000;
}
