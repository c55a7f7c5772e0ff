"""Beam's own Python job service on localhost, as a separate process: the portable path (job API,
artifact staging, Fn API workers) that Flink, Spark and Dataflow runners take, proven here without
a cluster. Its job API also tells a test which pipelines it ran (GetJobs, GetPipeline).
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


class JobService:
    def __init__(self, workdir: Path):
        port_file = workdir / "port"
        self.log = workdir / "job_service.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", "0",
                 "--port_file", str(port_file), "--staging_dir", str(workdir / "staging")],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while not port_file.exists():
            assert self.process.poll() is None and time.time() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.2)
        self.endpoint = f"localhost:{port_file.read_text().strip()}"

    @property
    def beam_args(self) -> list[str]:
        """Every Beam job to this service; its SDK workers run in the submitting process (LOOPBACK)."""
        return ["--runner=PortableRunner", f"--job_endpoint={self.endpoint}", "--environment_type=LOOPBACK"]

    def _stub(self):
        import grpc
        from apache_beam.portability.api import beam_job_api_pb2_grpc

        return beam_job_api_pb2_grpc.JobServiceStub(grpc.insecure_channel(self.endpoint))

    def jobs(self) -> list[dict]:
        """Every job submitted so far: {"id", "state", "transforms" (the unique names in its pipeline)}."""
        from apache_beam.portability.api import beam_job_api_pb2

        stub = self._stub()
        found = []
        for job in stub.GetJobs(beam_job_api_pb2.GetJobsRequest()).job_info:
            pipeline = stub.GetPipeline(beam_job_api_pb2.GetJobPipelineRequest(job_id=job.job_id)).pipeline
            found.append({"id": job.job_id, "state": beam_job_api_pb2.JobState.Enum.Name(job.state),
                          "transforms": {t.unique_name for t in pipeline.components.transforms.values()}})
        return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
