"""Files in and out: the model folder format, pretrained-weight import, ARPA, word2vec formats."""
