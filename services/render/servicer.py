"""editai.render.v1.RenderService: proto in → one domain call → proto out.

Errors are domain exceptions (editai_common.errors); the shared interceptor maps them.
"""

from __future__ import annotations

from typing import Any

import grpc

from editai.render.v1 import render_pb2, render_pb2_grpc
from editai_common.identity import caller_profile
from services.render import convert, validation
from services.render.job_requests import JobRequest, JobRequests
from services.render.library import Library
from services.render.scheduler import JobScheduler
from services.render.validation import Violations

Context = grpc.aio.ServicerContext


class RenderServicer(render_pb2_grpc.RenderServiceServicer):
    def __init__(self, library: Library, scheduler: JobScheduler, requests: JobRequests, *, dev_auth: bool) -> None:
        self._library = library
        self._scheduler = scheduler
        self._requests = requests
        self._dev_auth = dev_auth

    def _profile(self, context: Context) -> str:
        return caller_profile(context, dev_auth=self._dev_auth)

    async def _start(self, request: JobRequest) -> render_pb2.Job:
        return convert.job(await self._scheduler.start(request.new, request.prepare))

    # ------------------------------------------------------------ projects

    async def CreateProject(self, request: render_pb2.CreateProjectRequest, context: Context) -> Any:
        project = await self._library.create_project(self._profile(context), name=request.name,
                                                     description=request.description,
                                                     target_duration=request.target_duration)  # fmt: skip
        return render_pb2.CreateProjectResponse(project=convert.project(project))

    async def GetProject(self, request: render_pb2.GetProjectRequest, context: Context) -> Any:
        project = await self._library.project(self._profile(context), request.project_id)
        return render_pb2.GetProjectResponse(project=convert.project(project))

    async def ListProjects(self, request: render_pb2.ListProjectsRequest, context: Context) -> Any:
        profile = self._profile(context)
        v = Violations()
        limit, offset = validation.page(v, request.page_size, request.page_token)
        v.raise_if_any()
        projects = await self._library.list_projects(profile, limit=limit, offset=offset)
        token = validation.next_token(offset, limit, len(projects))
        return render_pb2.ListProjectsResponse(projects=[convert.project(p) for p in projects], next_page_token=token)

    async def DeleteProject(self, request: render_pb2.DeleteProjectRequest, context: Context) -> Any:
        await self._library.delete_project(self._profile(context), request.project_id)
        return render_pb2.DeleteProjectResponse()

    # ------------------------------------------------------------ source videos, segments

    async def CreateSourceVideo(self, request: render_pb2.CreateSourceVideoRequest, context: Context) -> Any:
        video = await self._library.create_source_video(self._profile(context), media_key=request.media_key,
                                                        name=request.name)  # fmt: skip
        return render_pb2.CreateSourceVideoResponse(source_video=convert.source_video(video))

    async def GetSourceVideo(self, request: render_pb2.GetSourceVideoRequest, context: Context) -> Any:
        video = await self._library.source_video(self._profile(context), request.source_video_id)
        return render_pb2.GetSourceVideoResponse(source_video=convert.source_video(video))

    async def ListSourceVideos(self, request: render_pb2.ListSourceVideosRequest, context: Context) -> Any:
        videos = await self._library.list_source_videos(self._profile(context))
        return render_pb2.ListSourceVideosResponse(source_videos=[convert.source_video(s) for s in videos])

    async def CreateSegment(self, request: render_pb2.CreateSegmentRequest, context: Context) -> Any:
        segment = await self._library.create_segment(
            self._profile(context), source_video_id=request.source_video_id, start_time=request.start_time,
            end_time=request.end_time, keywords=list(request.keywords),
        )  # fmt: skip
        return render_pb2.CreateSegmentResponse(segment=convert.segment(segment))

    async def ListSegments(self, request: render_pb2.ListSegmentsRequest, context: Context) -> Any:
        segments = await self._library.list_segments(self._profile(context), request.project_id)
        return render_pb2.ListSegmentsResponse(segments=[convert.segment(s) for s in segments])

    async def SetProjectSegments(self, request: render_pb2.SetProjectSegmentsRequest, context: Context) -> Any:
        segments = await self._library.set_project_segments(self._profile(context), request.project_id,
                                                            list(request.segment_ids))  # fmt: skip
        return render_pb2.SetProjectSegmentsResponse(segments=[convert.segment(s) for s in segments])

    # ------------------------------------------------------------ clips

    async def ListClips(self, request: render_pb2.ListClipsRequest, context: Context) -> Any:
        clips = await self._library.list_clips(self._profile(context), request.project_id)
        return render_pb2.ListClipsResponse(clips=[convert.clip(c) for c in clips])

    async def GetClip(self, request: render_pb2.GetClipRequest, context: Context) -> Any:
        clip = await self._library.clip(self._profile(context), request.clip_id)
        return render_pb2.GetClipResponse(clip=convert.clip(clip))

    async def UpdateClipContent(self, request: render_pb2.UpdateClipContentRequest, context: Context) -> Any:
        v = Violations()
        settings = validation.subtitle_settings(v, "subtitle_settings", request.subtitle_settings)
        v.raise_if_any()
        content = await self._library.update_clip_content(
            self._profile(context), request.clip_id,
            tts_text=request.tts_text if request.HasField("tts_text") else None,
            srt_content=request.srt_content if request.HasField("srt_content") else None,
            subtitle_settings=settings if request.HasField("subtitle_settings") else None,
        )  # fmt: skip
        return render_pb2.UpdateClipContentResponse(content=convert.content(content))

    # ------------------------------------------------------------ jobs

    async def GenerateRawClips(self, request: render_pb2.GenerateRawClipsRequest, context: Context) -> Any:
        job = await self._start(self._requests.generate_raw_clips(self._profile(context), request))
        return render_pb2.GenerateRawClipsResponse(job=job)

    async def GenerateFromSegments(self, request: render_pb2.GenerateFromSegmentsRequest, context: Context) -> Any:
        started = self._requests.generate_from_segments(self._profile(context), request)
        job = await self._scheduler.start(started.new, started.prepare)
        segments = job.params.get("segment_ids", [])
        return render_pb2.GenerateFromSegmentsResponse(job=convert.job(job), segments_count=len(segments))

    async def RenderFinalClip(self, request: render_pb2.RenderFinalClipRequest, context: Context) -> Any:
        job = await self._start(await self._requests.render_final_clip(self._profile(context), request))
        return render_pb2.RenderFinalClipResponse(job=job)

    async def ProcessVideo(self, request: render_pb2.ProcessVideoRequest, context: Context) -> Any:
        job = await self._start(self._requests.process_video(self._profile(context), request))
        return render_pb2.ProcessVideoResponse(job=job)

    async def SynthesizeSpeech(self, request: render_pb2.SynthesizeSpeechRequest, context: Context) -> Any:
        job = await self._start(self._requests.synthesize_speech(self._profile(context), request))
        return render_pb2.SynthesizeSpeechResponse(job=job)

    async def CancelProject(self, request: render_pb2.CancelProjectRequest, context: Context) -> Any:
        profile = self._profile(context)
        await self._library.project(profile, request.project_id)
        cancelled = await self._scheduler.cancel_project(profile, request.project_id)
        return render_pb2.CancelProjectResponse(cancelled_job_ids=[j.id for j in cancelled])

    async def CancelJob(self, request: render_pb2.CancelJobRequest, context: Context) -> Any:
        job = await self._scheduler.cancel_job(self._profile(context), request.job_id)
        return render_pb2.CancelJobResponse(job=convert.job(job))

    async def GetJob(self, request: render_pb2.GetJobRequest, context: Context) -> Any:
        job = await self._scheduler.get(self._profile(context), request.job_id)
        return render_pb2.GetJobResponse(job=convert.job(job))

    async def ListJobs(self, request: render_pb2.ListJobsRequest, context: Context) -> Any:
        profile = self._profile(context)
        v = Violations()
        limit, offset = validation.page(v, request.page_size, request.page_token)
        v.raise_if_any()
        status = convert.JOB_STATUS_FROM_PROTO.get(request.status)
        jobs = await self._scheduler.jobs.list_jobs(profile, project_id=request.project_id or None, status=status,
                                               limit=limit, offset=offset)  # fmt: skip
        token = validation.next_token(offset, limit, len(jobs))
        return render_pb2.ListJobsResponse(jobs=[convert.job(j) for j in jobs], next_page_token=token)

    async def DeleteJob(self, request: render_pb2.DeleteJobRequest, context: Context) -> Any:
        await self._scheduler.delete_job(self._profile(context), request.job_id)
        return render_pb2.DeleteJobResponse()
