"""``attention-transport verify``: run the machine-checked claims and print the constants."""
from __future__ import annotations

import json

from attention_transport.cli.base import Command, int_in

__all__ = ["Verify"]


def _scope_summary(parts):
    """One cell for the table: the domain when the claim has one part, else how many parts hold for every value
    of their parameters and how many on a finite range (``--steps`` and ``--json`` give them in full)."""
    if len(parts) == 1:
        text = parts[0].describe()
        return text if len(text) <= 40 else text[:39] + "…"
    unbounded = sum(not p.domain.bounded for p in parts)
    finite = len(parts) - unbounded
    return ", ".join(f"{k} part{'s' if k > 1 else ''} {label}" for k, label in ((unbounded, "unbounded"),
                                                                               (finite, "finite")) if k)


class Verify(Command):
    name = "verify"
    help = "run the machine-checked claims (C1–C7)"
    description = ("Run every checked step of every claim and print the constants x*, φ*, φ_bip*, a*, b* at the "
                   "requested precision. Exit status 1 on any failure.")

    def add_arguments(self, v):
        v.add_argument("--json", action="store_true", help="print one JSON object")
        v.add_argument("--dps", type=int_in(5, 1000), default=30, help="decimal digits for the constants and the "
                       "high-precision steps (default 30)")
        v.add_argument("--only", nargs="+", metavar="ID", help="run only these claims, e.g. --only C4 C5")
        v.add_argument("--write-docs", metavar="DIR", help="also (re)write the proof documents into DIR")
        v.add_argument("--enum-max", type=int_in(2, 200), metavar="N",
                       help="push C4b's branch and bound over every vertex set beyond its certified range, up to "
                       "n = N (at least the certified 50; about 14 s at n = 60, 70 s at 70)")
        v.add_argument("--steps", action="store_true", help="also list every step with its checker and the "
                       "region it is proven for")

    def run(self, args, out):
        from attention_transport import interrupts
        from attention_transport.errors import AttentionTransportError
        from attention_transport.numerics.constants import constants
        from attention_transport.proofs import CLAIMS, claim_by_id
        from attention_transport.proofs.c4b import CERTIFICATE
        from attention_transport.proofs.core import Context, run_claim
        from attention_transport.proofs.document import write_documents

        if args.enum_max is not None and args.enum_max < CERTIFICATE.n_bb:
            raise AttentionTransportError(f"--enum-max may extend the certified enumeration, not shorten it: it must "
                                          f"be at least {CERTIFICATE.n_bb}; got {args.enum_max}.")
        claims = [claim_by_id(c) for c in args.only] if args.only else list(CLAIMS)
        if args.write_docs:
            write_documents(args.write_docs)
        ctx = Context(dps=args.dps, enum_max=args.enum_max)
        results = [run_claim(c, ctx, interrupts.requested) for c in claims]
        consts = constants(args.dps)
        if args.json:
            payload = {
                "claims": [{
                    "id": r.claim.id, "title": r.claim.title, "statement": r.claim.statement, "status": r.status,
                    "kinds": list(r.claim.kinds), "seconds": round(r.seconds, 3),
                    "scope": {p.what: p.describe() for p in r.claim.parts_in(ctx)},
                    "steps": [{"key": s.step.key, "statement": s.step.statement, "kind": s.step.kind,
                               "role": s.step.role, "scope": s.step.scope_in(ctx).describe(),
                               "status": "pass" if s.ok else "fail",
                               "evidence": s.evidence, "seconds": round(s.seconds, 3)} for s in r.steps],
                } for r in results],
                "constants": consts,
                "dps": args.dps,
            }
            print(json.dumps(payload), file=out)
        else:
            rows = [(r.claim.id, r.claim.title, _scope_summary(r.claim.parts_in(ctx)),
                     ", ".join(r.claim.kinds), r.status.upper(), f"{r.seconds:.2f}") for r in results]
            head = ("claim", "statement", "proven for", "checkers", "result", "seconds")
            widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(head)]
            print("  ".join(h.ljust(w) for h, w in zip(head, widths)), file=out)
            for row in rows:
                print("  ".join(x.ljust(w) for x, w in zip(row, widths)), file=out)
            if args.steps:
                for r in results:
                    for part in r.claim.parts_in(ctx):
                        print(f"  {r.claim.id:4s} part: {part.what}: {part.describe()}", file=out)
                    for st in r.steps:
                        scope = st.step.scope_in(ctx).describe() if st.step.key != "coverage" else "the statement"
                        role = "" if st.step.role == "proof" else " [cross-check]"
                        print(f"  {r.claim.id:4s} {st.step.key:18s} {st.step.kind:17s} "
                              f"{'ok  ' if st.ok else 'FAIL'} {scope}{role}", file=out)
            for r in results:
                for st in r.steps:
                    if not st.ok:
                        print(f"{r.claim.id} step failed: {st.step.statement}\n    {st.evidence}", file=out)
            print(f"constants at {args.dps} digits:", file=out)
            for key, val in consts.items():
                print(f"  {key:13s} {val}", file=out)
            passed = sum(r.ok for r in results)
            print(f"{passed} passed, {len(results) - passed} failed", file=out)
        return 0 if all(r.ok for r in results) else 1
