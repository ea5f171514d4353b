// Package cli is the one way this repository's tools start: every
// cmd/<tool>/main.go is a single call of Run with the tool's Main, so flags
// are parsed in one place per tool (its Main), signals and exit codes are
// handled alike, and tests call Main directly with their own Env.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Env is what a tool gets from its process: arguments without the program
// name, the environment, and the two output streams.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// Signals receives every SIGINT and SIGTERM, for a tool that stops in
	// two stages (the first gracefully, a second at once); the first also
	// cancels Main's context. Nil in tests that send none.
	Signals <-chan os.Signal
}

// Main is the signature of every tool's entry point. ctx is cancelled on
// SIGINT or SIGTERM. A nil error or flag.ErrHelp exits 0; an error made by
// Exit exits with its code (usage errors 2); any other error exits 1. The
// error is printed as "<tool>: <error>", so Main prints only its output.
type Main func(ctx context.Context, env Env) error

// Run runs m as the process's main function and exits with its code.
func Run(name string, m Main) {
	ctx, cancel := context.WithCancel(context.Background())
	caught := make(chan os.Signal, 4)
	signal.Notify(caught, os.Interrupt, syscall.SIGTERM)
	forward := make(chan os.Signal, 4)
	go func() {
		for sig := range caught {
			cancel()
			select {
			case forward <- sig:
			default: // nobody reads them: the context says it all
			}
		}
	}()
	env := Env{Args: os.Args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Signals: forward}
	code := Report(name, m(ctx, env), env.Stderr)
	signal.Stop(caught)
	cancel()
	os.Exit(code)
}

// Report prints err the way Run does and returns the exit code for it.
func Report(name string, err error, stderr io.Writer) int {
	code := Code(err)
	if code != 0 && err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || ee.err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", name, strings.ReplaceAll(err.Error(), "\n", "\n"+name+": "))
		}
	}
	return code
}

// Code is the exit code for err: 0 for nil and flag.ErrHelp, the code given
// to Exit, and 1 otherwise.
func Code(err error) int {
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		return 1
	}
}

// Exit gives err an exit code other than 1. With a nil err the process
// exits with code and prints nothing (the tool has said why already).
func Exit(code int, err error) error { return &exitError{code: code, err: err} }

// Usage marks err as a mistake in the command line: exit code 2.
func Usage(err error) error { return Exit(2, err) }

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }
