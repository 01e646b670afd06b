"""Model families: ngram, rnn, transformer, multimodal. All language models share `base.LanguageModel`."""
