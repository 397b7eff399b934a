using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Groundwork.Silo.Hosting;

/// <summary>Turns a start-up failure into the one line an operator needs.</summary>
public static class StartupFailure
{
    /// <summary>The line for <paramref name="exception"/>, or null to let it surface as it is.</summary>
    public static string? Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case StartupSettingException setting:
                    return setting.Message;
                case OptionsValidationException invalid:
                    return string.Join(" ", invalid.Failures);
                case SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }:
                case IOException when e.InnerException is null && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase):
                    return $"a port is already in use ({e.Message}): set Urls, Orleans:Endpoints:SiloPort or Orleans:Endpoints:GatewayPort to a free port.";
            }
        }

        return null;
    }
}
