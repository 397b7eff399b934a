// These tests drive real silo processes with POSIX signals (SIGTERM) and file modes: Linux (and macOS) only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
