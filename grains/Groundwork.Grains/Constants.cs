namespace Groundwork.Grains;

/// <summary>Names that must not drift: storage provider and state names are part of stored data.</summary>
public static class StorageNames
{
    /// <summary>The grain storage provider every Groundwork grain uses.</summary>
    public const string Provider = "groundwork";

    /// <summary>State name of tenants.</summary>
    public const string Tenant = "tenant";

    /// <summary>State name of tenant directories.</summary>
    public const string Directory = "directory";

    /// <summary>State name of lists.</summary>
    public const string List = "list";
}
