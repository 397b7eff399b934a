namespace Groundwork.Grains.Lists;

/// <summary>The idempotency window's rule, kept apart so it can be tested with any clock.</summary>
internal static class OperationLog
{
    /// <summary>
    /// Drops the oldest records (the list is oldest first) while more than <see cref="ListOptions.IdempotencyMinEntries"/>
    /// remain and the oldest is either older than <see cref="ListOptions.IdempotencyWindow"/> or past the hard cap
    /// <see cref="ListOptions.IdempotencyMaxEntries"/>. So a record lives while it is among the newest minimum or
    /// inside the window, and the state never holds more than the cap.
    /// </summary>
    public static void Trim(List<OperationRecord> operations, DateTimeOffset now, ListOptions limits)
    {
        var cutoff = now - limits.IdempotencyWindow;
        var drop = 0;
        while (operations.Count - drop > limits.IdempotencyMinEntries &&
               (operations[drop].At < cutoff || operations.Count - drop > limits.IdempotencyMaxEntries))
        {
            drop++;
        }

        operations.RemoveRange(0, drop);
    }
}
