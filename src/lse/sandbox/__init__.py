"""Local LangSmith- and OpenAI-compatible servers for the demo and the tests; they speak only public protocols."""
