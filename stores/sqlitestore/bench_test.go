package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/goaxes/axes/stores/internal/sqlcommon/sqltest"
)

func benchStore(b *testing.B) sqltest.Store { return open(b, filepath.Join(b.TempDir(), "bench.db")) }

// BenchmarkHit counts failures on a fresh key each time (never locked);
// "parallel" runs b.RunParallel.
func BenchmarkHit(b *testing.B) { sqltest.BenchHit(b, benchStore, 1) }

// BenchmarkPeek reads a counter.
func BenchmarkPeek(b *testing.B) { sqltest.BenchPeek(b, benchStore(b)) }

// BenchmarkHitLocked refuses a locked key again and again, counting each
// refusal: answered from the cache, written in batches.
func BenchmarkHitLocked(b *testing.B) { sqltest.BenchHitLocked(b, benchStore) }

// BenchmarkSucceed is a successful login's Hit then its release and access
// log, in one transaction (ReleaseAndRecordLogin) or two.
func BenchmarkSucceed(b *testing.B) { sqltest.BenchSucceed(b, benchStore(b)) }
