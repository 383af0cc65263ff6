"""Publish and consume throughput of pika (BlockingConnection), the same procedure as amqp-bench.

usage: bench_amqp_pika.py [--host H] [--port P] [--count N] [--size BYTES] [--runs R]
"""
import argparse
import os
import statistics
import time

import pika

parser = argparse.ArgumentParser()
parser.add_argument("--host", default=os.environ.get("RABBITMQ_HOST", "127.0.0.1"))
parser.add_argument("--port", type=int, default=int(os.environ.get("RABBITMQ_PORT", "5672")))
parser.add_argument("--count", type=int, default=100_000)
parser.add_argument("--size", type=int, default=16)
parser.add_argument("--runs", type=int, default=3)
args = parser.parse_args()

body = b"x" * args.size
publish_rates, consume_rates = [], []
for run in range(1, args.runs + 1):
    connection = pika.BlockingConnection(pika.ConnectionParameters(host=args.host, port=args.port))
    channel = connection.channel()
    queue = f"amqp-bench.pika.{run}"
    channel.queue_declare(queue=queue)
    channel.queue_purge(queue=queue)

    properties = pika.BasicProperties(delivery_mode=1)
    start = time.perf_counter()
    for _ in range(args.count):
        channel.basic_publish(exchange="", routing_key=queue, body=body, properties=properties)
    publish_elapsed = time.perf_counter() - start
    while channel.queue_declare(queue=queue, passive=True).method.message_count < args.count:
        time.sleep(0.02)

    channel.basic_qos(prefetch_count=1000)
    received = 0
    start = time.perf_counter()
    for method, _props, _body in channel.consume(queue=queue):
        channel.basic_ack(method.delivery_tag)
        received += 1
        if received == args.count:
            break
    consume_elapsed = time.perf_counter() - start
    channel.cancel()
    channel.queue_delete(queue=queue)
    connection.close()

    publish_rates.append(args.count / publish_elapsed)
    consume_rates.append(args.count / consume_elapsed)
    print(f"pika run {run}: publish {int(publish_rates[-1])} msgs/s, consume {int(consume_rates[-1])} msgs/s", flush=True)
print(f"pika median: publish {int(statistics.median(publish_rates))} msgs/s, consume {int(statistics.median(consume_rates))} msgs/s")
