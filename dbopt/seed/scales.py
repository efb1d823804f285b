"""How much data each `dbopt seed --scale` makes, and the shape of it."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from dbopt.errors import DboptError


@dataclass(frozen=True)
class Scale:
    name: str
    messages: int
    conversations: int
    hot_messages: int  # one conversation this large: the plan's worst case for COUNT(*)
    posts: int
    users: int
    # ClickHouse CDC events (13 months; follows reach back 4 years)
    likes: int
    comments: int
    shares: int
    follows: int
    impressions: int
    months: int = 13

    def conversation_sizes(self, seed: int = 42) -> list[int]:
        """Messages per conversation: one hot conversation, one of exactly 1 000 (the plan's
        "1k conversation"), and Zipf-distributed sizes for the rest."""
        rng = random.Random(seed)
        fixed = [self.hot_messages]
        if self.messages >= self.hot_messages + 1000 + self.conversations:
            fixed.append(1000)
        rest_count = max(self.conversations - len(fixed), 1)
        rest_total = max(self.messages - sum(fixed), rest_count)
        cap = max(self.hot_messages // 2, 1)
        weights = [1.0 / (rank**0.9) for rank in range(1, rest_count + 1)]
        total_w = sum(weights)
        sizes = [min(cap, max(1, math.floor(rest_total * w / total_w))) for w in weights]
        # Hand out what rounding and the cap left over, one message at a time to random ones.
        leftover = rest_total - sum(sizes)
        while leftover > 0:
            i = rng.randrange(rest_count)
            if sizes[i] < cap:
                step = min(leftover, cap - sizes[i], max(1, leftover // rest_count))
                sizes[i] += step
                leftover -= step
        rng.shuffle(sizes)
        return fixed + sizes


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", messages=6_000, conversations=60, hot_messages=1_500, posts=3_000, users=400,
                  likes=20_000, comments=4_000, shares=2_000, follows=4_000, impressions=40_000),
    "small": Scale("small", messages=200_000, conversations=2_000, hot_messages=20_000, posts=50_000,
                   users=10_000, likes=500_000, comments=100_000, shares=50_000, follows=100_000,
                   impressions=1_000_000),
    "medium": Scale("medium", messages=2_000_000, conversations=20_000, hot_messages=200_000, posts=500_000,
                    users=100_000, likes=5_000_000, comments=1_000_000, shares=500_000, follows=1_000_000,
                    impressions=10_000_000),
    "large": Scale("large", messages=10_000_000, conversations=100_000, hot_messages=1_000_000,
                   posts=2_000_000, users=400_000, likes=20_000_000, comments=4_000_000, shares=2_000_000,
                   follows=4_000_000, impressions=40_000_000),
}


def scale_for(name: str | None = None, messages: int | None = None) -> Scale:
    """A named scale, or one sized from a message count (`--messages N`)."""
    if messages is not None:
        if messages < 1_000:
            raise DboptError(f"--messages {messages} is too small to be realistic; pass 1000 or more.")
        m = messages
        return Scale(
            f"{m}-messages", messages=m, conversations=max(10, m // 100), hot_messages=max(200, m // 10),
            posts=max(1_000, m // 4), users=max(100, m // 20), likes=m * 5 // 2, comments=m // 2,
            shares=m // 4, follows=m // 2, impressions=m * 5,
        )
    key = name or "small"
    if key not in SCALES:
        raise DboptError(f"Unknown scale {key!r}; use one of {', '.join(SCALES)} or --messages N.")
    return SCALES[key]
