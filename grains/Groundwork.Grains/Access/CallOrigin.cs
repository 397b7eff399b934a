namespace Groundwork.Grains.Access;

/// <summary>
/// Whether the code running now serves a request from outside the silo (an HTTP request in a co-hosted web host)
/// rather than the silo's own work. Grain calls made in such a flow carry no internal token
/// (<see cref="InternalCallMarker"/>), so they are checked like any client's, by the key they carry.
/// </summary>
public static class CallOrigin
{
    private static readonly AsyncLocal<bool> External = new();

    /// <summary>Whether the current flow serves an outside request.</summary>
    public static bool IsExternal => External.Value;

    /// <summary>Marks the rest of the current flow as serving an outside request (the web host does this first).</summary>
    public static void MarkExternal() => External.Value = true;

    /// <summary>
    /// Marks the rest of the current flow as the operator's: for requests the host has authenticated with the
    /// operator key (the Orleans dashboard), whose grain calls then act as the silo.
    /// </summary>
    public static void MarkOperator() => External.Value = false;
}
