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

/// <summary>Programs the tests run to completion (npm, openssl, bash scripts...).</summary>
public static class Programs
{
    /// <summary>Runs <paramref name="program"/> (found as <see cref="Repository.FindProgram"/> does, or /usr/sbin, /usr/bin) to completion; its output, or an exception with its output when it fails.</summary>
    public static async Task<string> RunAsync(string program, string? workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var executable = Repository.FindProgram(program, $"/usr/sbin/{program}", $"/usr/bin/{program}")
            ?? throw new InvalidOperationException($"{program} is not installed (.ci/run installs what the tests need).");
        var info = new System.Diagnostics.ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await errors}{await output}");
        }

        return await output;
    }
}
