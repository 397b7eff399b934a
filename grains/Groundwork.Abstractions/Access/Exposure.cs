namespace Groundwork.Access;

/// <summary>
/// Marks a method that changes nothing: reading it twice is the same as reading it once. The HTTP gateway serves it
/// as <c>GET</c> when its parameters are simple (scalars and lists of scalars). Unrelated to Orleans'
/// <c>[ReadOnly]</c>, which changes how calls interleave; this one changes nothing at run time.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class SafeAttribute : Attribute;

/// <summary>
/// Keeps a method off the HTTP gateway: it is for .NET callers only (the silo's own plumbing, grains calling each
/// other). Methods that need no credential (<see cref="Requirement.None"/>) stay off HTTP without it.
/// </summary>
/// <param name="reason">Why, for the reader of the contract and for the gateway's exposure test.</param>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class DotNetOnlyAttribute(string reason) : Attribute
{
    /// <summary>Why the method is not served over HTTP.</summary>
    public string Reason { get; } = reason;
}
