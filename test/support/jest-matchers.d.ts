// Brings aws-sdk-client-mock-jest's matcher types (toHaveReceivedCommandWith, ...) into every test file.
import 'aws-sdk-client-mock-jest';
