"""`lmlab chat MODEL [--system "..."]`: talk to an instruction-tuned model in the terminal.

    lmlab chat runs/sft/model --system "Eres un asistente breve."
    printf 'Hola\n/reset\n/exit\n' | lmlab chat runs/sft/model

Replies stream as they are generated. The history is rendered through the model's chat template
(the one SFT trained it with, or `--chat-template`) and kept within its context: the oldest turns
are dropped when needed, and the chat says so. Commands: `/reset` forgets the conversation,
`/system TEXT` sets the system message (`/system` alone removes it), `/exit` (or end of input)
leaves. Behind it is `lmlab.align.session.ChatSession`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lmlab.cli.common import add_command

EXAMPLE = 'lmlab chat runs/sft/model --system "Responde con una palabra."'


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "chat", common, help="chat with a model in the terminal (streaming)",
                    description=__doc__.split("\n\n")[0].strip("`"), example=EXAMPLE)
    p.add_argument("model", help="an lmlab model folder with a chat template (e.g. from lmlab sft)")
    p.add_argument("--system", help="the system message")
    p.add_argument("--chat-template", help="template name or Jinja source (default: the model's)")
    p.add_argument("-n", "--max-new-tokens", type=int, default=128, help="reply length limit (128)")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass (1.0)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from lmlab.align.session import ChatSession
    from lmlab.cli.common import torch_device
    from lmlab.errors import LmlabError
    from lmlab.generate import GenerationConfig
    from lmlab.io.loading import load

    torch.set_num_threads(max(1, args.threads))
    device = torch_device(args)
    model = load(args.model)
    if hasattr(model, "to"):
        model = model.to(device)
    sample = args.temperature > 0
    generation = GenerationConfig(strategy="sample" if sample else "greedy",
                                  max_new_tokens=args.max_new_tokens,
                                  temperature=args.temperature if sample else 1.0,
                                  top_p=args.top_p if sample else 1.0, seed=args.seed)

    def dropped(n: int) -> None:
        print(f"[dropped the {n} oldest exchange{'s' if n > 1 else ''} to fit the context]",
              file=sys.stderr, flush=True)

    session = ChatSession(model, system=args.system, template=args.chat_template,
                          generation=generation, on_drop=dropped)
    interactive = sys.stdin.isatty()
    if interactive:
        print("/reset forgets, /system TEXT sets the system message, /exit leaves", file=sys.stderr)
    while True:
        if interactive:
            try:
                line = input("> ")
            except EOFError:
                break
        else:
            line = sys.stdin.readline()
            if not line:
                break
        line = line.strip()
        if not line:
            continue
        if line in ("/exit", "/quit"):
            break
        if line == "/reset":
            session.reset()
            print("[conversation reset]", file=sys.stderr, flush=True)
            continue
        if line == "/system" or line.startswith("/system "):
            session.set_system(line[len("/system"):].strip())
            print(f"[system message {'set' if session.system else 'removed'}]", file=sys.stderr,
                  flush=True)
            continue
        try:
            for piece in session.send(line):
                sys.stdout.write(piece)
                sys.stdout.flush()
        except LmlabError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            continue
        sys.stdout.write("\n")
        sys.stdout.flush()
    return 0
