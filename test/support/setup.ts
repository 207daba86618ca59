import '../../sandbox/promise-with-resolvers';
