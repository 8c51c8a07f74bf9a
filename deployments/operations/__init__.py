"""The Operations page for admins: run outcomes, failure rate, lost workers, durations,
what is queued or stuck, and adoption."""
