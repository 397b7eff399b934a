namespace Groundwork.Testing;

/// <summary>The repository the tests run from.</summary>
public static class Repository
{
    /// <summary>The folder holding <c>Runtime.sln</c>, found above the test assembly.</summary>
    public static string Root
    {
        get
        {
            var here = AppContext.BaseDirectory;
            for (var folder = new DirectoryInfo(here); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Runtime.sln")))
                {
                    return folder.FullName;
                }
            }

            throw new InvalidOperationException($"Runtime.sln not found above {here}");
        }
    }

    /// <summary>The path of a program, or null, searched like a shell would: <paramref name="candidates"/>, then <c>PATH</c>.</summary>
    public static string? FindProgram(string name, params string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>Where a test saves what a person should be able to look at afterwards: <c>TestResults/{kind}</c> at the root.</summary>
    public static string ArtifactFolder(string kind)
    {
        var folder = Path.Combine(Root, "TestResults", kind);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
