using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests;

/// <summary>One real silo process on the embedded default, shared by the tests that only read from it.</summary>
public sealed class EmbeddedSiloFixture : IAsyncLifetime
{
    /// <summary>The silo.</summary>
    public SiloProcess Silo { get; private set; } = null!;

    /// <summary>How long the silo took from process start to ready.</summary>
    public TimeSpan TimeToReady { get; private set; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        Silo = SiloProcess.Start();
        TimeToReady = await Silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
    }

    /// <inheritdoc/>
    public async Task DisposeAsync() => await Silo.DisposeAsync();
}
