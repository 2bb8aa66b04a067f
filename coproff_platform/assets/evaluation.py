"""Evaluation against the sample's ground truth (no production asset depends on it). (Issue 3.)"""

EVALUATION_ASSETS: list = []
