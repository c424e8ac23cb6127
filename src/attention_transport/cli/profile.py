"""``attention-transport profile``: seconds and peak memory of one long forced pass, per attention path."""
from __future__ import annotations

import json

from attention_transport.cli.base import Command, int_in, n_value, positive_int

__all__ = ["Profile"]


class Profile(Command):
    name = "profile"
    help = "time and memory of the features on one long forced pass"
    description = ("One forced pass of N tokens of HaluEval summarization text (the last quarter as the response): "
                   "the model's own forward pass alone (sdpa, the baseline), then the chosen path with its features; "
                   "prints both times, their ratio, the peak resident memory and the features produced.")

    def add_arguments(self, pr):
        from attention_transport.harness.features import FEATURES
        from attention_transport.harness.paths import PATHS

        pr.add_argument("--model", default="smollm2-135m", help="smollm2-135m (default), minilm-l6, a local Hugging "
                        "Face directory or a .gguf file")
        pr.add_argument("--n", type=n_value, required=True, help="tokens in the pass")
        pr.add_argument("--attention", choices=tuple(PATHS), default="streaming",
                        help="attention path (default streaming)")
        pr.add_argument("--exclude", nargs="+", choices=tuple(FEATURES), default=(), metavar="FEATURE",
                        help="features to leave out, e.g. --exclude G phi_bip (the costliest on the streaming path)")
        pr.add_argument("--bip-grid", type=positive_int, help="streaming: φ_bip exact up to this many tokens, on a "
                        "lattice beyond (default 1024)")
        pr.add_argument("--threads", type=int_in(1), help="torch threads (default: torch's choice)")
        pr.add_argument("--json", action="store_true", help="print one JSON object")
        pr.add_argument("--cache", help="cache directory of fetched components")

    def run(self, args, out):
        import torch

        from attention_transport.harness.features import FeatureSettings
        from attention_transport.harness.models import load_model
        from attention_transport.harness.profile import profile, summarization_documents
        from attention_transport.provenance import json_ready

        if args.threads is not None:
            torch.set_num_threads(args.threads)
        documents = summarization_documents(args.cache)
        loaded = load_model(args.model, args.cache)
        res = profile(loaded, args.n, args.attention, documents=documents,
                      settings=FeatureSettings(exclude=args.exclude), bip_grid=args.bip_grid)
        if args.json:
            print(json.dumps(json_ready(res.to_json())), file=out)
            return 0
        rows = [("model", res.model),
                ("n (prompt + response)", f"{res.n} ({res.prompt_len} + {res.n - res.prompt_len})"),
                ("attention path", res.attention), ("forward alone (sdpa)", f"{res.forward_s:.2f} s"),
                ("forward + features", f"{res.total_s:.2f} s"), ("overhead ratio", f"{res.overhead_ratio:.2f}"),
                ("peak RSS", f"{res.peak_rss_mb:.0f} MB (after the forward alone: {res.forward_peak_rss_mb:.0f} MB)"),
                ("φ_bip lattice stride", str(res.bip_stride)), ("torch threads", str(res.threads)),
                ("features", ", ".join(res.features)), ("excluded", ", ".join(res.excluded) or "—")]
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v}", file=out)
        return 0
