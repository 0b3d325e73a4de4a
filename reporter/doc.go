// Package reporter counts Cal.com bookings the way the Infrastructure Plan
// bills them and turns the count into a usage report: the UTC month
// (Period), the counts (Counts), the money (Estimate), the counting state
// kept between runs (Watermark) and the wire document (Report).
//
// Counting is read-only and aggregate-only: it runs in a REPEATABLE READ,
// READ ONLY transaction and never reads a booking's content. See
// docs/usage-reporting.md for why the incremental count is exact.
package reporter
