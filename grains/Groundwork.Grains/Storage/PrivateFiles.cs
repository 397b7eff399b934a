namespace Groundwork.Grains.Storage;

/// <summary>
/// Files that hold tenants' data are readable by the silo's own user only: a folder created for them is 0700, the
/// database and its journal files 0600, whatever the process umask. An existing folder is left as it is (it may be
/// shared, like <c>/tmp</c>); the files inside it are what is protected.
/// </summary>
public static class PrivateFiles
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="folder"/> (0700) unless it exists.</summary>
    public static void EnsureFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, Folder);
        }
    }

    /// <summary>Creates <paramref name="path"/> empty (0600) unless it exists, and makes it and its SQLite companions 0600.</summary>
    public static void EnsureDatabaseFile(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (!System.IO.File.Exists(path))
        {
            using var _ = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = File,
            });
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            if (System.IO.File.Exists(file) && (System.IO.File.GetUnixFileMode(file) & ~File) != 0)
            {
                System.IO.File.SetUnixFileMode(file, File);
            }
        }
    }
}
