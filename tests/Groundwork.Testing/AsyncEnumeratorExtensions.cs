namespace Groundwork.Testing;

/// <summary>Reading feeds in tests without hanging: every read has a deadline.</summary>
public static class AsyncEnumeratorExtensions
{
    /// <summary>The default deadline for one read.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Reads the next <paramref name="count"/> elements, failing if they do not arrive in time.</summary>
    public static async Task<List<T>> TakeAsync<T>(this IAsyncEnumerator<T> enumerator, int count, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(enumerator);
        var items = new List<T>(count);
        while (items.Count < count)
        {
            var moved = await enumerator.MoveNextAsync().AsTask().WaitAsync(timeout ?? DefaultTimeout);
            if (!moved)
            {
                throw new InvalidOperationException($"The feed ended after {items.Count} of {count} elements.");
            }

            items.Add(enumerator.Current);
        }

        return items;
    }
}
