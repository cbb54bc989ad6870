package attack_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server of this package's own, on a free port.
type redisServer struct {
	dir     string
	port    int
	persist bool // append-only file, fsync on every write: survives a kill

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

func newRedis(dir string, port int, persist bool) (*redisServer, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, err
	}
	r := &redisServer{dir: dir, port: port, persist: persist}
	return r, r.start()
}

// start runs redis-server on r's port and directory (again after kill).
func (r *redisServer) start() error {
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--dir", r.dir,
		"--databases", "1000", "--logfile", filepath.Join(r.dir, "redis.log")}
	if r.persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port)})
	defer rdb.Close()
	end := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			return fmt.Errorf("redis-server exited: %s", b)
		default:
		}
		if time.Now().After(end) {
			r.kill()
			return fmt.Errorf("redis-server not ready within 15s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill stops the server at once (SIGKILL), as a crash would.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

func (r *redisServer) url(db int) string { return fmt.Sprintf("redis://127.0.0.1:%d/%d", r.port, db) }

func (r *redisServer) client(db int) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), DB: db})
}

// pgServer is a PostgreSQL cluster of this package's own, on a free port.
// PostgreSQL refuses to run as root, so as root it runs as the postgres
// user (as scripts/services.sh does).
type pgServer struct {
	bin, dir, data string
	port           int
	asPostgres     bool
}

func pgBin() (string, error) {
	if b := os.Getenv("AXES_TEST_PG_BIN"); b != "" {
		return b, nil
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		return "", errors.New("no initdb: set AXES_TEST_PG_BIN or install postgresql")
	}
	return filepath.Dir(m[len(m)-1]), nil
}

// newPG initialises a cluster in a fresh directory and starts it on port.
// The caller removes it with destroy.
func newPG(port int) (*pgServer, error) {
	bin, err := pgBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "axes-attack-pg-")
	if err != nil {
		return nil, err
	}
	p := &pgServer{bin: bin, dir: dir, data: filepath.Join(dir, "data"), port: port, asPostgres: os.Geteuid() == 0}
	if p.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if out, err := p.run("initdb", "-D", p.data, "-U", "postgres", "-A", "trust", "--no-sync"); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if err := p.start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

func (p *pgServer) run(tool string, args ...string) ([]byte, error) {
	name := filepath.Join(p.bin, tool)
	var cmd *exec.Cmd
	if p.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

// start runs the cluster on p's port and data directory (again after stop).
func (p *pgServer) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=on -c full_page_writes=off", p.port, p.dir)
	out, err := p.run("pg_ctl", "-D", p.data, "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "30", "-o", opts, "start")
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, b)
	}
	return nil
}

// stop stops the cluster at once (immediate mode: no checkpoint, as a
// crash would; recovery replays the WAL on start).
func (p *pgServer) stop() error {
	out, err := p.run("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

func (p *pgServer) destroy() {
	_ = p.stop()
	_ = os.RemoveAll(p.dir)
}

func (p *pgServer) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// createDB creates an empty database and returns its URL.
func (p *pgServer) createDB(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return p.url(name), nil
}

// shared holds the Redis and PostgreSQL servers that tests which never
// stop them share: each test gets its own Redis database number and its
// own PostgreSQL database. TestMain stops them.
var shared struct {
	redisOnce sync.Once
	redis     *redisServer
	redisErr  error
	redisDB   atomic.Int32
	redisDir  string

	pgOnce sync.Once
	pg     *pgServer
	pgErr  error
	pgDB   atomic.Int32
}

// sharedRedis returns the URL of a fresh database on the shared Redis.
func sharedRedis(t testing.TB) (string, *redis.Client) {
	t.Helper()
	shared.redisOnce.Do(func() {
		dir, err := os.MkdirTemp("", "axes-attack-redis-")
		if err != nil {
			shared.redisErr = err
			return
		}
		shared.redisDir = dir
		shared.redis, shared.redisErr = newRedis(dir, freePort(t), false)
	})
	requireServices(t, "redis-server", shared.redisErr)
	db := int(shared.redisDB.Add(1))
	if db >= 1000 {
		t.Fatal("out of Redis databases")
	}
	rdb := shared.redis.client(db)
	t.Cleanup(func() { _ = rdb.Close() })
	return shared.redis.url(db), rdb
}

// sharedPostgres returns the URL of a fresh database on the shared
// PostgreSQL.
func sharedPostgres(t testing.TB) string {
	t.Helper()
	shared.pgOnce.Do(func() {
		shared.pg, shared.pgErr = newPG(freePort(t))
	})
	requireServices(t, "PostgreSQL", shared.pgErr)
	u, err := shared.pg.createDB(fmt.Sprintf("attack_%d", shared.pgDB.Add(1)))
	if err != nil {
		t.Fatalf("create database: %v", err)
	}
	return u
}

func stopShared() {
	if shared.redis != nil {
		shared.redis.kill()
		_ = os.RemoveAll(shared.redisDir)
	}
	if shared.pg != nil {
		shared.pg.destroy()
	}
}
