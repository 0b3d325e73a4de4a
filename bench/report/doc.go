// Package report holds the usage-reporting benchmark: counting bookings in
// a 10-million-row Cal.com-shaped table, against a plain count(*), and the
// agent's idle memory. Run it with
//
//	go test ./bench/report -run '^$' -bench . -benchtime 1x -timeout 60m
//
// CALCTL_BENCH_ROWS changes the table size (default 10,000,000).
package report
