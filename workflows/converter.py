"""The one data converter every client, worker and replayer uses: payloads are pydantic models."""

from temporalio.contrib.pydantic import pydantic_data_converter

DATA_CONVERTER = pydantic_data_converter
