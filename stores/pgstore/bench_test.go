package pgstore_test

import (
	"testing"

	"github.com/goaxes/axes/stores/internal/sqlcommon/sqltest"
)

func benchStore(b *testing.B) sqltest.Store { return newStore(b, newPool(b)) }

// BenchmarkHit counts failures on a fresh IP each time (never locked), with
// the IP alone (one statement) or with one of 64 usernames too (the
// function); "parallel" runs b.RunParallel.
func BenchmarkHit(b *testing.B) { sqltest.BenchHit(b, benchStore, 64) }

// BenchmarkPeek reads a counter.
func BenchmarkPeek(b *testing.B) { sqltest.BenchPeek(b, benchStore(b)) }

// BenchmarkHitLocked refuses a locked key again and again, counting each
// refusal: one statement each.
func BenchmarkHitLocked(b *testing.B) { sqltest.BenchHitLocked(b, benchStore) }

// BenchmarkSucceed is a successful login's Hit then its release and access
// log, in one statement (ReleaseAndRecordLogin) or as Release and
// RecordLogin.
func BenchmarkSucceed(b *testing.B) { sqltest.BenchSucceed(b, benchStore(b)) }
