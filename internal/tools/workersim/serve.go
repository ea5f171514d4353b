package workersim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
	amqp "github.com/rabbitmq/amqp091-go"
)

// consumersPerQueue is how many jobs of one queue may be in service at
// once, each on its own channel with a prefetch of one: one channel tops out
// near a thousand jobs per second on loopback, less than a large fleet
// serves.
const consumersPerQueue = 4

// errConsumerClosed means the broker ended a consumer on its own (the queue
// was deleted, the channel or connection closed).
var errConsumerClosed = errors.New("the broker closed the consumer")

// serve runs the consumers of every queue until ctx ends, Stop has let every
// consumer finish, or one fails; they share the fleet's token bucket.
func (s *Sim) serve(ctx context.Context, conn *amqp.Connection) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(s.cfg.Queues)*consumersPerQueue)
	var wg sync.WaitGroup
	for _, q := range s.cfg.Queues {
		for i := range consumersPerQueue {
			ch, deliveries, tag, err := openConsumer(conn, q, i)
			if err != nil {
				cancel()
				wg.Wait()
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Closing the channel returns whatever it still holds
				// unacknowledged to the queue.
				defer ch.Close()
				if err := s.consume(ctx, ch, tag, deliveries); err != nil {
					errs <- fmt.Errorf("queue %q: %w", q, err)
					cancel()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when every consumer stopped with ctx or Stop
}

// openConsumer opens a channel that receives at most one unacknowledged job
// at a time, as each model container of a worker does: a job is
// unacknowledged only while it is being served, so the queue's ready count
// is the backlog, and a worker that dies loses nothing (RabbitMQ redelivers
// what it had not acknowledged).
func openConsumer(conn *amqp.Connection, queue string, i int) (*amqp.Channel, <-chan amqp.Delivery, string, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, nil, "", fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Qos(1, 0, false); err != nil {
		ch.Close()
		return nil, nil, "", fmt.Errorf("set prefetch on %q: %w", queue, err)
	}
	tag := fmt.Sprintf("workersim-%s-%d", queue, i)
	deliveries, err := ch.Consume(queue, tag, false, false, false, false, nil)
	if err != nil {
		ch.Close()
		return nil, nil, "", fmt.Errorf("consume from %q: %w", queue, err)
	}
	return ch, deliveries, tag, nil
}

// consume serves one consumer's deliveries. After Stop it cancels the
// consumer, so the broker sends it nothing more, and serves and acknowledges
// what the broker had already sent before returning.
func (s *Sim) consume(ctx context.Context, ch *amqp.Channel, tag string, deliveries <-chan amqp.Delivery) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stopping:
			if err := ch.Cancel(tag, false); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("cancel consumer %s: %w", tag, err)
			}
			// The delivery channel closes once what was received before
			// the cancel has been handed over.
			for msg := range deliveries {
				if err := s.handle(ctx, msg); err != nil {
					return err
				}
			}
			return nil
		case msg, ok := <-deliveries:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errConsumerClosed
			}
			if err := s.handle(ctx, msg); err != nil {
				return err
			}
		}
	}
}

// handle serves one job once the fleet has earned the time for it, then
// acknowledges it. If ctx ends first the job stays unacknowledged and the
// broker redelivers it when the channel closes.
func (s *Sim) handle(ctx context.Context, msg amqp.Delivery) error {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
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
			s.abandoned.Add(1)
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
	if s.cfg.Recorder != nil {
		s.cfg.Recorder.Served(job, done)
	}
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
