namespace Groundwork.Grains.Storage;

/// <summary>Options of the embedded SQLite grain storage (configuration section <c>Groundwork:Storage</c>).</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Storage";

    /// <summary>The default database file, relative to the working directory.</summary>
    public const string DefaultPath = "./data/groundwork.db";

    /// <summary>The database file. Created with its folder at start when missing. Default <c>./data/groundwork.db</c>.</summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>
    /// How long a storage operation waits for a lock held by another writer before failing. Default 30 s
    /// (the Orleans response timeout).
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The default of <see cref="MaxStateBytes"/>: 64 MiB.</summary>
    public const int DefaultMaxStateBytes = 64 * 1024 * 1024;

    /// <summary>The largest state one grain may store, in bytes (<c>Groundwork:Storage:MaxStateBytes</c>). Default 64 MiB.</summary>
    public int MaxStateBytes { get; set; } = DefaultMaxStateBytes;
}

/// <summary>The names of the storage limits, as <see cref="LimitExceededException.Limit"/> reports them.</summary>
public static class StorageLimits
{
    /// <summary>The largest state one grain may store (<c>Groundwork:Storage:MaxStateBytes</c>).</summary>
    public const string MaxStateBytes = "Storage:MaxStateBytes";
}
