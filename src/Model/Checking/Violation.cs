namespace Faultsim.Model.Checking;

/// <summary>A broken invariant: its number and name in DESIGN.md's list, what happened, and the event that showed it.</summary>
public sealed record Violation(int Invariant, string Name, string Description, long AtEvent)
{
    public static readonly IReadOnlyList<string> Names =
    [
        "",
        "one disk read per page per load",
        "no waiter woken before its PTE is installed, none left asleep",
        "a COW break leaves every other sharer its content",
        "no use of a translation to a freed or reused frame",
        "no write is lost",
        "every figure equals the reference model's",
        "every load returns what memory holds",
        "every run makes progress",
    ];

    public override string ToString() => $"invariant {Invariant} ({Name}) violated: {Description}";
}
