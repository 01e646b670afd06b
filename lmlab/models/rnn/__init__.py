"""Recurrent models: the Elman network and LSTM/GRU cells written out (`elman.py`, `cells.py`),
the RNN language model (`lm.py`), the bidirectional classifier (`classifier.py`), the siamese
sentence encoder (`siamese.py`) and the attention encoder-decoder (`seq2seq.py`).
"""
