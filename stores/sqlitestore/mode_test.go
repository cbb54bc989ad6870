package sqlitestore_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
	"github.com/goaxes/axes/stores/sqlitestore"
)

// TestNewFilesAreOwnerOnly opens a new database under a umask that lets
// anyone read, and writes: the database and its -wal and -shm files are
// 0600, for the attempt records in them name users and their addresses.
func TestNewFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "axes.db")
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	key := []core.Key{core.NewKey(core.ParamIPAddress, "10.0.0.1", "", "")}
	_, err = s.Hit(context.Background(), key, t0, core.Policy{Limit: 3}, make([]core.Counter, 1))
	require.NoError(t, err)
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		require.NoError(t, err, "the store in WAL mode has %s while open", filepath.Base(f))
		assert.Equal(t, "-rw-------", fi.Mode().Perm().String(), "mode of %s", filepath.Base(f))
	}
}

// TestExistingFileModeIsKept opens a database file that its owner made
// readable by the group: Open leaves that choice (a backup user, say) as
// it is.
func TestExistingFileModeIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "axes.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	require.NoError(t, os.Chmod(path, 0o640))
	s, err := sqlitestore.Open(path, sqlitestore.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, "-rw-r-----", fi.Mode().Perm().String())
}
