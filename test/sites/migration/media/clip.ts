not really a video
