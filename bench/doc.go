// Package bench holds the benchmarks of axes side by side with the rate
// limiters Go users would pick instead. It is its own module so that the
// peers never enter github.com/goaxes/axes.
package bench
