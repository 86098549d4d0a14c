# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Exceptions of `astroquery_fink` beyond astroquery's own (`astroquery.exceptions`)."""
from astroquery.exceptions import InvalidQueryError, RemoteServiceError

__all__ = ["ErrorAnswerError", "NoAlertsError", "PartialResultError", "TruncatedAnswerError"]


class ErrorAnswerError(RemoteServiceError):
    """The server answered HTTP 200 with its error written as rows (a one-row table
    ``{"status": ..., "text": ...}`` or ``{"message": ...}`` in the asked format, as
    fink-object-api's ``send_tabular_data`` writes a dict): the message holds the server's
    words. Not retried: the same request gets the same answer.
    """


class NoAlertsError(InvalidQueryError):
    """What a method needs an alert for has none in Fink (the cutouts of an object with no
    alerts, or of a diaSourceId Fink does not have): there is nothing to return.

    A subclass of `~astroquery.exceptions.InvalidQueryError`; ``fink-query`` exits with the
    status of an answer without rows (1), not that of a usage error (2).
    """


class PartialResultError(RemoteServiceError):
    """Some objects of a multi-object query could not be fetched, even after retries.

    Nothing is dropped silently: the rows that did arrive are kept on the exception.

    Attributes
    ----------
    table : `~astropy.table.Table`
        The merged rows of every batch that succeeded.
    failed_ids : list of str
        The object IDs whose batch failed; query them again later.
    errors : dict
        Failed object ID -> the exception that ended its batch.
    responses : list of `requests.Response`
        For the ``_async`` methods: the responses that did arrive (else empty).
    """

    def __init__(self, message: str, *, table, failed_ids, errors, responses=()):
        super().__init__(message)
        self.table = table
        self.failed_ids = list(failed_ids)
        self.errors = dict(errors)
        self.responses = list(responses)


class TruncatedAnswerError(RemoteServiceError):
    """The server's answer ended before its end (cut on the way).

    Detected from ``Content-Length`` and from each wire format's own end (a CSV row with too
    few fields, a parquet file without its footer, JSON that stops mid-value, ...). Such an
    answer is retried and never cached; this is raised only when every try came back cut.
    """
