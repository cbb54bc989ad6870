package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"sync/atomic"

	"modernc.org/sqlite"
)

// countingConnector opens modernc.org/sqlite connections that count every
// statement sent to SQLite (BEGIN and COMMIT included): the SQL analogue
// of a round trip.
type countingConnector struct {
	dsn string
	n   *atomic.Int64
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn.(sqliteConn), c.n}, nil
}

func (c countingConnector) Driver() driver.Driver { return &sqlite.Driver{} }

type sqliteConn interface {
	driver.Conn
	driver.ExecerContext
	driver.QueryerContext
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type countingConn struct {
	sqliteConn
	n *atomic.Int64
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.sqliteConn.ExecContext(ctx, q, args)
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.sqliteConn.QueryContext(ctx, q, args)
}

// openCountingSQLite opens path as sqlitestore.Open does (WAL,
// synchronous NORMAL, busy timeout, one connection), counting statements.
func openCountingSQLite(path string, n *atomic.Int64) *sql.DB {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db := sql.OpenDB(countingConnector{dsn: fmt.Sprintf("file:%s?%s", path, q.Encode()), n: n})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db
}
