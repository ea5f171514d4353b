package workersim

import (
	"context"
	"fmt"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/loadgen"
	amqp "github.com/rabbitmq/amqp091-go"
)

// idleWait is how long the loop pauses when every queue is empty or the
// fleet has no worker.
const idleWait = 20 * time.Millisecond

// serve pulls jobs round-robin from the queues and acknowledges each once
// the fleet has earned the time to serve it.
func (s *Sim) serve(ctx context.Context, ch *amqp.Channel) error {
	next := 0
	for ctx.Err() == nil {
		got := false
		for i := range s.cfg.Queues {
			q := s.cfg.Queues[(next+i)%len(s.cfg.Queues)]
			msg, ok, err := ch.Get(q, false)
			if err != nil {
				return fmt.Errorf("get from %q: %w", q, err)
			}
			if !ok {
				continue
			}
			got = true
			if err := s.handle(ctx, msg); err != nil {
				return err
			}
		}
		next++
		if !got && !sleep(ctx, idleWait) {
			return nil
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
