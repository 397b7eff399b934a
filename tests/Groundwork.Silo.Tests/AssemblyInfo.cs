// These tests drive real silo processes with POSIX signals (SIGTERM) and file modes: Linux (and macOS) only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// One silo process at a time: ports are picked free just before a silo binds them, and parallel classes could
// otherwise pick the same one.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
