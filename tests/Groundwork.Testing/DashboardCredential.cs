using System.Net.Http.Headers;
using System.Text;

namespace Groundwork.Testing;

/// <summary>The HTTP Basic credential the Orleans dashboard asks for: any user name, the operator key as password.</summary>
public static class DashboardCredential
{
    /// <summary>An <c>Authorization: Basic</c> header for <paramref name="password"/>.</summary>
    public static AuthenticationHeaderValue Basic(string password, string user = "operator") =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}
