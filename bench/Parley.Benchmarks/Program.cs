using BenchmarkDotNet.Running;

namespace Parley.Benchmarks;

internal static class Program
{
    // Run: dotnet run -c Release --project bench/Parley.Benchmarks -- --filter '*' --job short
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
