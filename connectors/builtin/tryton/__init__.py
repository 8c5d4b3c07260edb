"""The Tryton ERP connector (PRODUCT.md section 4.3; facts in TRYTON.md).

``config`` holds the configuration, ``api`` one REST session with Tryton's decoding,
``connector`` the connector with its pricing.
"""

from connectors.builtin.tryton.config import ErrorCode, TrytonConfig, TrytonError
from connectors.builtin.tryton.connector import TrytonConnector

__all__ = ["ErrorCode", "TrytonConfig", "TrytonConnector", "TrytonError"]
