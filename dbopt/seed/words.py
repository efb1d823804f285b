"""A deterministic vocabulary for message and post text: common words plus a long tail,
so full-text search has both frequent and selective terms."""

from __future__ import annotations

import random

COMMON = ["the", "be", "to", "of", "and", "a", "in", "that", "have", "it", "for", "not", "on", "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "say", "her", "she", "or", "an", "will", "my", "one", "all", "would", "there", "their", "what", "so", "up", "out", "if", "about", "who", "get", "which", "go", "me", "when", "make", "can", "like", "time", "no", "just", "him", "know", "take", "people", "into", "year", "your", "good", "some", "could", "them", "see", "other", "than", "then", "now", "look", "only", "come", "its", "over", "think", "also", "back", "after", "use", "two", "how", "our", "work", "first", "well", "way", "even", "new", "want", "because", "any", "these", "give", "day", "most", "us", "meeting", "lunch", "tomorrow", "tonight", "weekend", "coffee", "project", "deadline", "photo", "video", "call", "later", "thanks", "sorry", "great", "awesome", "invoice", "release", "deploy", "server", "database", "cache", "feed", "message", "search"]

SYLLABLES = "ka lo mi ren tu sa vi no pe dra xil qu om zer ath bel cor dun fen gal"

# Words the benchmark searches for: present in a few messages, absent from most.
SEARCH_TERMS = ("deploy", "invoice", "zorvexa", "quillomir")


def vocabulary(size: int = 3000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    syllables = SYLLABLES.split()
    words = list(COMMON) * 8  # common words weigh more
    while len(set(words)) < size:
        words.append("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    words += ["zorvexa", "quillomir"]
    return words


def phrases(count: int = 8192, seed: int = 11) -> list[str]:
    """Three-word phrases, skewed towards common words like real chat text."""
    rng = random.Random(seed)
    words = vocabulary()
    return [" ".join(rng.choice(words) for _ in range(3)) for _ in range(count)]
