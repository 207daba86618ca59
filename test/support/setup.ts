import '../../sandbox/promise-with-resolvers';

// The SDK warns once per process that its 2027 releases need Node 22; the tests pin it by lockfile.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
