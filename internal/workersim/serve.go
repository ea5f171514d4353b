package workersim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/loadgen"
	amqp "github.com/rabbitmq/amqp091-go"
)

// idleWait is how long a puller pauses when its queue is empty.
const idleWait = 20 * time.Millisecond

// pullersPerQueue is how many jobs of one queue may be in service at once,
// each pulled on its own channel: one basic.get loop tops out near a
// thousand jobs per second on loopback, less than a large fleet serves.
const pullersPerQueue = 4

// serve runs the pullers of every queue until ctx ends or one fails; they
// share the fleet's token bucket.
func (s *Sim) serve(ctx context.Context, conn *amqp.Connection) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(s.cfg.Queues)*pullersPerQueue)
	var wg sync.WaitGroup
	for _, q := range s.cfg.Queues {
		for range pullersPerQueue {
			ch, err := conn.Channel()
			if err != nil {
				return fmt.Errorf("open channel: %w", err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer ch.Close()
				if err := s.pull(ctx, ch, q); err != nil {
					errs <- err
					cancel()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when every puller stopped with ctx
}

// pull takes jobs from one queue, one at a time.
func (s *Sim) pull(ctx context.Context, ch *amqp.Channel, queue string) error {
	for ctx.Err() == nil {
		msg, ok, err := ch.Get(queue, false)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("get from %q: %w", queue, err)
		}
		if !ok {
			if !sleep(ctx, idleWait) {
				return nil
			}
			continue
		}
		if err := s.handle(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sim) handle(ctx context.Context, msg amqp.Delivery) error {
	job, err := loadgen.DecodeJob(msg.Body)
	if err != nil {
		s.rejected.Add(1)
		if err := msg.Reject(false); err != nil {
			return fmt.Errorf("reject a malformed job: %w", err)
		}
		return nil
	}
	for {
		s.mu.Lock()
		wait := s.bucket.take(float64(job.Requests), s.cfg.Now())
		s.mu.Unlock()
		if wait == 0 {
			break
		}
		if wait < 0 || wait > s.cfg.PollInterval {
			wait = min(s.cfg.PollInterval, 100*time.Millisecond)
		}
		if !sleep(ctx, wait) {
			// Leaving the job unacknowledged returns it to the queue when
			// the channel closes: a stopped simulator loses nothing.
			return nil
		}
	}
	if err := msg.Ack(false); err != nil {
		return fmt.Errorf("ack a job: %w", err)
	}
	done := s.cfg.Now()
	simWait := time.Duration(float64(done.Sub(job.EnqueuedAt)) * s.cfg.Compression)
	s.mu.Lock()
	s.waits.add(simWait, job.Requests)
	s.mu.Unlock()
	s.jobs.Add(1)
	s.requests.Add(int64(job.Requests))
	return nil
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
