using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Access;

/// <summary>
/// The operator key's hash, from configuration, or from a key file generated at first start (never a fixed
/// default secret in the code).
/// </summary>
public sealed partial class OperatorKey
{
    private readonly Lazy<byte[]> _hash;
    private readonly Lazy<string> _internalToken;

    /// <summary>Resolves the operator key from <paramref name="options"/>.</summary>
    public OperatorKey(IOptions<AccessOptions> options, ILogger<OperatorKey> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        _hash = new Lazy<byte[]>(() => ApiKeys.Hash(Resolve(value, logger)));
        _internalToken = new Lazy<string>(() => Convert.ToHexStringLower(SHA256.HashData([.. "groundwork-internal:"u8, .. _hash.Value])));
    }

    /// <summary>Whether <paramref name="presented"/> is the operator key (constant time).</summary>
    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(ApiKeys.Hash(presented), _hash.Value);

    /// <summary>
    /// The token silo code puts on its own calls (<see cref="InternalCallMarker"/>), derived from the operator key so
    /// every silo of a cluster shares it and no client can compute it.
    /// </summary>
    public string InternalToken => _internalToken.Value;

    /// <summary>Whether <paramref name="presented"/> is this cluster's internal token (constant time).</summary>
    public bool IsInternalToken(string? presented)
    {
        var token = InternalToken;
        if (presented is null || presented.Length != token.Length)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[token.Length];
        Span<byte> b = stackalloc byte[token.Length];
        return System.Text.Encoding.ASCII.GetBytes(presented, a) == token.Length &&
               System.Text.Encoding.ASCII.GetBytes(token, b) == token.Length &&
               CryptographicOperations.FixedTimeEquals(a, b);
    }

    /// <summary>Resolves now, so a bad key or file stops the silo at start rather than at the first call.</summary>
    public void EnsureResolved() => _ = _hash.Value;

    /// <summary>The configured key, or the one in the key file, created with a new key when missing.</summary>
    public static string Resolve(AccessOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrEmpty(options.OperatorKey))
        {
            return ApiKeys.IsOperatorKeyForm(options.OperatorKey)
                ? options.OperatorKey
                : throw new OptionsValidationException(nameof(AccessOptions.OperatorKey), typeof(AccessOptions),
                    ["Groundwork:Access:OperatorKey must be 'gwo_' followed by 64 lower-case hex digits; unset it to have one generated."]);
        }

        var path = Path.GetFullPath(options.OperatorKeyFile);
        if (File.Exists(path))
        {
            var stored = File.ReadAllText(path).Trim();
            if (!ApiKeys.IsOperatorKeyForm(stored))
            {
                throw new OptionsValidationException(nameof(AccessOptions.OperatorKeyFile), typeof(AccessOptions),
                    [$"The operator key file {path} (Groundwork:Access:OperatorKeyFile) does not hold a 'gwo_' key; delete it to have a new one generated."]);
            }

            LogUsingFile(logger, path);
            return stored;
        }

        Storage.PrivateFiles.EnsureFolder(Path.GetDirectoryName(path)!);
        var key = ApiKeys.NewOperatorKey();
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, fileOptions))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(key);
        }

        LogGenerated(logger, path);
        return key;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated an operator key at {Path} (readable by this user only). Use it to create tenants; set Groundwork:Access:OperatorKey to supply your own.")]
    private static partial void LogGenerated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator key read from {Path}")]
    private static partial void LogUsingFile(ILogger logger, string path);
}
