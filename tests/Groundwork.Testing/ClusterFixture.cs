using Groundwork.Access;
using Groundwork.Client;
using Groundwork.Client.Hosting;
using Groundwork.Grains.Access;
using Groundwork.Grains.Hosting;
using Groundwork.Lists;
using Groundwork.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Xunit;

namespace Groundwork.Testing;

/// <summary>
/// One in-process cluster of two silos per test collection, on the real SQLite storage in a temporary folder,
/// with the real access filter. Tests take a fresh tenant each (<see cref="NewTenantAsync"/>), so they never see
/// each other's state.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime, IAsyncDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "groundwork-tests", Guid.NewGuid().ToString("n"));
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly short _silos;
    private readonly string? _databasePath;

    /// <summary>The fixture the tests share: two silos with <see cref="Settings"/>.</summary>
    public ClusterFixture()
    {
        _settings = Settings;
        _silos = 2;
    }

    private ClusterFixture(IReadOnlyDictionary<string, string?> settings, short silos, string? databasePath)
    {
        _settings = settings;
        _silos = silos;
        _databasePath = databasePath;
    }

    /// <summary>
    /// A cluster of <paramref name="silos"/> silos with <paramref name="settings"/>, for benchmarks and special cases
    /// (xUnit fixtures may have only one public constructor).
    /// </summary>
    public static ClusterFixture Create(IReadOnlyDictionary<string, string?> settings, short silos) => new(settings, silos, null);

    /// <summary>A cluster on an existing database file at <paramref name="databasePath"/>, with an operator key of its own.</summary>
    public static ClusterFixture OnDatabase(string databasePath, IReadOnlyDictionary<string, string?> settings, short silos = 1) => new(settings, silos, databasePath);

    /// <summary>The operator key of this cluster.</summary>
    public string OperatorKey { get; } = ApiKeys.NewOperatorKey();

    /// <summary>The cluster.</summary>
    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The cluster's external client (with Groundwork's credential filter).</summary>
    public IClusterClient Client => Cluster.Client;

    /// <summary>The SQLite file the silos share.</summary>
    public string DatabasePath => _databasePath ?? Path.Combine(_folder, "groundwork.db");

    /// <summary>Settings the silos read, beside the defaults. Small limits make limit tests cheap.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Groundwork:Lists:FeedRetention"] = "50",
        ["Groundwork:Lists:MaxItems"] = "100",
        ["Groundwork:Relay:Buffer"] = "5",
        ["Groundwork:Chat:MessagesPerPage"] = "4",
        ["Groundwork:Chat:PagesPerIndexChunk"] = "3",
        ["Groundwork:Chat:MaxPins"] = "3",
        ["Groundwork:Chat:MaxEdits"] = "3",
        ["Groundwork:Chat:MaxMembers"] = "8",
        ["Groundwork:Chat:PostBurst"] = "100000",
        ["Groundwork:Chat:TypingTimeout"] = "00:00:00.500",
        ["Groundwork:Chat:MaxTypingMembers"] = "5",
        ["Groundwork:Chat:PresenceTimeout"] = "00:00:01.500",
        ["Groundwork:Chat:AwayAfter"] = "00:00:00.600",
        ["Groundwork:Sheets:MaxCells"] = "3000",
        ["Groundwork:Sheets:MaxBatchCells"] = "600",
        ["Groundwork:Sheets:MaxCsvCells"] = "2500",
        ["Groundwork:Sheets:MaxSheets"] = "4",
        ["Groundwork:Sheets:MaxReadCells"] = "700",
        ["Groundwork:Sheets:MaxChangeCells"] = "100",
        ["Groundwork:Sheets:MaxRecalculatedCells"] = "1000",
        ["Groundwork:Tenants:MaxKeys"] = "20",
        ["Groundwork:Tenants:MaxMembers"] = "30",
        ["Groundwork:Tenants:MaxDirectoryEntries"] = "10",
        ["Groundwork:Access:CredentialCacheDuration"] = "00:00:00.200",
    };

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        var settings = new Dictionary<string, string?>(_settings) { ["Groundwork:Access:OperatorKey"] = OperatorKey };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = new InProcessTestClusterBuilder(_silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddGroundwork(configuration);
            silo.UseGroundworkSqliteStorage(configure: o => o.Path = DatabasePath);

            // Spread activations over both silos (the default prefers the gateway silo the client talks to), so
            // failover tests find grains on a silo they can kill.
            silo.Services.AddSingleton<PlacementStrategy, RandomPlacement>();

            // The test host's client asks every silo for its status through this system target.
            silo.Services.AddSingleton(new Groundwork.Grains.Access.ClientSystemTarget("Orleans.Runtime.TestHooks.ITestHooks"));
        });
        builder.ConfigureClient(client => client.AddGroundworkCredentials());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <inheritdoc/>
    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a pooled connection: the OS temp cleanup takes it.
        }
    }

    /// <summary>Creates a list titled <paramref name="title"/> in a fresh tenant, as the tenant's owner.</summary>
    public async Task<OwnedList> NewListAsync(string title = "List")
    {
        var tenant = await NewTenantAsync();
        var key = tenant.ListKey();
        var list = Client.GetList(key);
        using (As(tenant.OwnerKey))
        {
            await list.CreateAsync(title);
        }

        return new OwnedList(tenant, key, list);
    }

    /// <summary>
    /// Waits (bounded) until the tenant directory, read with <paramref name="apiKey"/>, satisfies
    /// <paramref name="condition"/>: lists record themselves there just after their own write.
    /// </summary>
    public async Task<IReadOnlyList<ResourceEntry>> WaitForDirectoryAsync(string tenant, string apiKey, Func<IReadOnlyList<ResourceEntry>, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        using (As(apiKey))
        {
            while (true)
            {
                var entries = await Client.GetTenantDirectory(tenant).ListAsync();
                if (condition(entries))
                {
                    return entries;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The directory of '{tenant}' never met the condition; last seen: {string.Join(", ", entries.Select(e => $"{e.Key} '{e.Title}'"))}");
                }

                await Task.Delay(20);
            }
        }
    }

    /// <summary>Runs the calls in the returned scope with <paramref name="apiKey"/>.</summary>
    public static IDisposable As(string apiKey) => GroundworkCredentials.Use(apiKey);

    /// <summary>Creates a tenant with a fresh id, owned by <c>owner</c>; returns it with the owner's key.</summary>
    public async Task<TestTenant> NewTenantAsync(string owner = "owner")
    {
        var id = "t-" + Guid.NewGuid().ToString("n")[..12];
        using (As(OperatorKey))
        {
            var key = await Client.GetTenant(id).CreateAsync($"Tenant {id}", owner);
            return new TestTenant(this, id, key.Key);
        }
    }
}

/// <summary>A list created for one test in a fresh tenant, by the tenant's owner.</summary>
public sealed class OwnedList(TestTenant tenant, string key, IListGrain list)
{
    /// <summary>The tenant.</summary>
    public TestTenant Tenant { get; } = tenant;

    /// <summary>The list's key.</summary>
    public string Key { get; } = key;

    /// <summary>The list.</summary>
    public IListGrain List { get; } = list;

    /// <summary>The key of the list's owner.</summary>
    public string OwnerKey => Tenant.OwnerKey;

    /// <summary>Deconstructs into the list and its owner's key.</summary>
    public void Deconstruct(out IListGrain list, out string ownerKey) => (list, ownerKey) = (List, OwnerKey);

    /// <summary>Deconstructs into the key, the list and its owner's key.</summary>
    public void Deconstruct(out string key, out IListGrain list, out string ownerKey) => (key, list, ownerKey) = (Key, List, OwnerKey);
}

/// <summary>A tenant made for one test, with its owner's key.</summary>
public sealed record TestTenant(ClusterFixture Fixture, string Id, string OwnerKey)
{
    /// <summary>A resource key in this tenant.</summary>
    public string ListKey(string? name = null) => $"{Id}/list/{name ?? Guid.NewGuid().ToString("n")[..10]}";

    /// <summary>Adds <paramref name="principal"/> with <paramref name="role"/> and returns a new key for it.</summary>
    public async Task<string> MemberKeyAsync(string principal, TenantRole role, KeyScope scope = KeyScope.Standard)
    {
        using (ClusterFixture.As(OwnerKey))
        {
            var tenant = Fixture.Client.GetTenant(Id);
            await tenant.SetMemberAsync(principal, role);
            return (await tenant.IssueKeyAsync(principal, scope)).Key;
        }
    }
}
