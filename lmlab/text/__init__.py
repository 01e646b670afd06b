"""Text processing: normalisation, sentences, words, stop words, stems, lemmas and tokenizers.

Modules (import what you need; nothing heavy is imported here):

- `normalize`: Unicode forms, case folding, accent stripping that keeps ñ, social-media tokens.
- `sentences`: sentence splitting aware of abbreviations, decimals, ellipses, ¿? ¡! and quotes.
- `words`: word tokenisation (¿ ¡ apart; numbers, e-mails, URLs whole).
- `stopwords`, `stem`, `lemma`: stop-word lists, Snowball stemming, spaCy lemmas (optional).
- `pipeline`: a composable chain of these steps.
- `special`, `tokenizers`, `batch`, `coverage`: special tokens; training, loading and batch
  encoding of `tokenizers.Tokenizer` objects; vocabulary coverage reports.
"""
