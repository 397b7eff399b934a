using Groundwork.Silo.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddGroundworkSilo();
    var app = builder.Build();
    app.MapGroundworkEndpoints();
    await app.RunAsync();
    return 0;
}
catch (Exception exception) when (StartupFailure.Describe(exception) is { } line)
{
    await Console.Error.WriteLineAsync($"groundwork: {line}");
    return 2;
}
