"""Sending: scheduling and controlling sends, the delivery worker and its ports, pacing, SNS feedback,
click and open tracking."""
